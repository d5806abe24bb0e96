// A two-image project: a base image with nginx, and a web image built on it, on Docker and on
// an existing host over SSH. Run: imgc plan examples/basic/images.ts
import { image, variable, secret, t, timestamp } from "imgc";
import { docker } from "imgc/platforms/docker";
import { nullHost } from "imgc/platforms/null";
import { shell, file } from "imgc/provisioners";
import { manifest } from "imgc/post";

const version = variable("version", { type: "string", default: "1.0.0", description: "The web release to bake" });
const host = variable("host", { type: "string", default: "127.0.0.1" });
const token = secret("registry_token");

export const base = image("base", {
  description: "Debian with nginx",
  platforms: [
    docker({ image: "imgc/debian:12", commit: true, network: "none" }),
    nullHost({ ssh: { host, username: "admin" } }),
  ],
  provision: [
    shell({ inline: ["apt-get install -y nginx"], only: ["docker"] }),
    file.upload("./nginx.conf", "/etc/nginx/nginx.conf"),
  ],
});

export default image("web", {
  from: base,
  provision: [
    shell({ inline: [t`echo ${version} > /etc/web-version`, t`echo built at ${timestamp()}`], env: { TOKEN: token } }),
    file.content(t`base image: ${base.artifact("docker").id}`, "/etc/base-image", { only: ["docker"] }),
  ],
  post: [manifest({ output: "manifest.json" })],
});
