// A web server image built from a component library (../lib, installed as a file: dependency)
// and imgc's stdlib. Build it: cd examples/component-library/project && npm install && imgc apply
import { image, variable, t } from "imgc";
import { docker } from "imgc/platforms/docker";
import { dockerTag } from "imgc/post";
import { cleanup, timezone } from "imgc/stdlib";
import { deployUser, webServer } from "@example/imgc-web-components";

const port = variable("port", { type: "number", default: 8080, description: "Port the site listens on" });
const release = variable("release", { type: "string", default: "1.0.0" });
const ciKey = variable("ci_key", {
  type: "string",
  default: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn1bO5nKc6hBv0mQ8oP1cV2Jt9yJ3Qw8zY7iL5gQeTz ci@example",
});

export default image("web", {
  description: "nginx serving /srv/www, with a deploy user",
  platforms: [
    // The build container uses the host network so apt reaches the Debian mirror.
    docker({
      image: "local/debian:12",
      commit: true,
      network: "host",
      changes: { cmd: ["nginx", "-g", "daemon off;"], expose: [8080], labels: { release } },
    }),
  ],
  provision: [
    webServer({ port, serverName: "www.example.test", greeting: t`Release ${release}` }),
    deployUser({ authorizedKeys: [ciKey] }),
    timezone("UTC"),
    cleanup.forImage(),
  ],
  post: [dockerTag({ repository: "imgc-example/web", tags: [release] })],
});
