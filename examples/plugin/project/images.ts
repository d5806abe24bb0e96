// An example project built with a third-party platform: `imgc apply` here builds
// out/base.dirtree.tar.gz, then out/app.dirtree.tar.gz on top of it.
import { image, t, variable } from "imgc";
import { file, shell } from "imgc/provisioners";
import { checksum } from "imgc/post";
import { dirtree } from "imgc-plugin-dirtree";

const greeting = variable("greeting", { type: "string", default: "hello" });

export const base = image("base", {
  platforms: [dirtree({ files: { "etc/motd": t`${greeting} from imgc\n` } })],
  provision: [shell({ inline: ["mkdir -p usr/share/app", "echo base > usr/share/app/layer"] })],
});

export default image("app", {
  from: base,
  provision: [
    file.content("version=1\n", "etc/app.conf"),
    shell({ inline: ['test -f "$IMGC_ROOT/etc/motd"', "echo app >> usr/share/app/layer"] }),
  ],
  post: [checksum({ types: ["sha256"], output: "out/{{.BuildName}}.sha256" })],
});
