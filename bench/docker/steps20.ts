// bench scenario `steps20`: 20 separate shell provisioners, commit (as steps20.json).
import { image } from "imgc";
import { docker } from "imgc/platforms/docker";
import { shell } from "imgc/provisioners";

export default image("steps20", {
  platforms: [docker({ image: "bench/base:1", pull: false, commit: true, network: "none", changes: ["LABEL bench.run=imgc"] })],
  provision: Array.from({ length: 20 }, (_, i) => shell({ inline: [`echo step${i + 1} >> /steps.log`] })),
});
