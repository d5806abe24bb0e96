// bench scenario `files`: upload payload/ (200 × 4 KiB + one 64 MiB file) to /data, check the
// sums inside, commit (as files.json). The runner makes the payload in bench/out/payload.
import { image } from "imgc";
import { docker } from "imgc/platforms/docker";
import { file, shell } from "imgc/provisioners";

export default image("files", {
  platforms: [docker({ image: "bench/base:1", pull: false, commit: true, network: "none", changes: ["LABEL bench.run=imgc"] })],
  provision: [
    file.upload("../out/payload/", "/data"),
    shell({ inline: ["cd /data && sha256sum -c --quiet SHA256SUMS && find . -type f | wc -l"] }),
  ],
});
