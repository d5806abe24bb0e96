// bench scenario `tiny`: one inline command, commit (as ../shared/bench-packer/tiny.json).
import { image } from "imgc";
import { docker } from "imgc/platforms/docker";
import { shell } from "imgc/provisioners";

export default image("tiny", {
  platforms: [docker({ image: "bench/base:1", pull: false, commit: true, network: "none", changes: ["LABEL bench.run=imgc"] })],
  provision: [shell({ inline: ["echo hi > /hello"] })],
});
