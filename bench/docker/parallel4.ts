// bench scenario `parallel4`: four independent tiny builds at once (as parallel4.json).
import { image } from "imgc";
import { docker } from "imgc/platforms/docker";
import { shell } from "imgc/provisioners";

const tiny = (name: string) =>
  image(name, {
    platforms: [docker({ image: "bench/base:1", pull: false, commit: true, network: "none", changes: ["LABEL bench.run=imgc"] })],
    provision: [shell({ inline: ["echo hi > /hello"] })],
  });

export const b1 = tiny("b1");
export const b2 = tiny("b2");
export const b3 = tiny("b3");
export const b4 = tiny("b4");
