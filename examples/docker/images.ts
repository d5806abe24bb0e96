// A base → app chain on Docker. `base` is Debian with an app user and some site defaults; `app`
// builds on base's image, installs a tiny program and sets how the image runs.
//
// Run on a fresh machine (starts dockerd if needed, makes the local Debian base once):
//   npm run example:docker
// Or, with Docker Hub reachable:  npx imgc apply examples/docker/images.ts --var source_image=debian:12
import { image, variable, t } from "imgc";
import { docker } from "imgc/platforms/docker";
import { file, shell } from "imgc/provisioners";
import { dockerTag } from "imgc/post";

const source = variable("source_image", {
  type: "string",
  default: "local/debian:12",
  description: "The Debian 12 image to start from: the locally imported one, or debian:12 from Docker Hub",
});
const release = variable("release", { type: "string", default: "1.0.0", description: "The app release baked into the image" });

export const base = image("base", {
  description: "Debian 12 with an app user and site defaults",
  platforms: [
    docker({
      image: source,
      commit: true,
      network: "none",
      changes: { labels: { "org.example.stage": "base" }, env: { LANG: "C.UTF-8" } },
    }),
  ],
  provision: [
    shell({ inline: ["useradd --system --create-home --home-dir /srv/app --shell /usr/sbin/nologin app", "install -d -o app -g app /srv/app/data"] }),
    file.upload("./files/motd", "/etc/motd", { mode: 0o644 }),
  ],
});

export default image("app", {
  description: "The app on top of base",
  from: base,
  platforms: [
    docker({
      commit: true,
      network: "none",
      changes: {
        cmd: ["/srv/app/bin/hello"],
        user: "app",
        workdir: "/srv/app",
        expose: [8080],
        env: { APP_RELEASE: release },
        labels: { "org.example.stage": "app", "org.example.release": release },
      },
    }),
  ],
  provision: [
    file.upload("./app/", "/srv/app/"),
    shell({
      inline: [
        "chmod 0755 /srv/app/bin/hello",
        "chown -R app:app /srv/app",
        t`echo ${release} > /srv/app/RELEASE`,
        'echo "built for $TARGET" > /srv/app/TARGET',
      ],
      env: { TARGET: "example" },
    }),
  ],
  post: [dockerTag({ repository: "imgc-example/app", tags: [release, "latest"] })],
});
