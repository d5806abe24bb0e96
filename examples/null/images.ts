// Provision a machine that already exists, over SSH: the `null` platform (Packer's null
// builder). The host comes from variables, so the same definitions provision any box:
//
//   imgc apply examples/null/images.ts --var host=127.0.0.1 --var port=2222 --var key=/path/to/id_ed25519
//
// A second apply is all up to date; the host is provisioned again when these definitions or
// the files they upload change, or when the host shows a different host key (reinstalled).
import { image, variable, t } from "imgc";
import { nullHost } from "imgc/platforms/null";
import { file, shell, shellLocal } from "imgc/provisioners";

const host = variable("host", { type: "string", description: "Address of the machine to provision" });
const port = variable("port", { type: "number", default: 22, description: "Its SSH port" });
const user = variable("user", { type: "string", default: "root", description: "User to log in as" });
const key = variable("key", { type: "string", description: "Private key file to log in with" });
const hostKey = variable("host_key", {
  type: "string",
  default: "accept-new",
  description: 'The host key to insist on ("ssh-ed25519 AAAA…" or "SHA256:…"); accept-new trusts the first one and logs it',
});
const dir = variable("dir", { type: "string", default: "/tmp/imgc-null-example", description: "Where on the machine the example writes" });
const greeting = variable("greeting", { type: "string", default: "hello from imgc", description: "A value passed to the machine through env" });

export default image("site", {
  description: "An existing host with a small site layout",
  platforms: [nullHost({ ssh: { host, port, username: user, privateKeyFile: key, hostKey, timeout: "2m" }, label: t`site@${host}` })],
  provision: [
    shell({ inline: [t`mkdir -p ${dir}`, 'echo "$GREETING" > "$DIR/greeting"'], env: { GREETING: greeting, DIR: dir } }),
    file.upload("./files/site/", dir),
    file.content(t`built by imgc for ${host}\n`, t`${dir}/BUILT`, { mode: 0o644 }),
    shell({ inline: ['cd "$DIR" && sha256sum index.html BUILT > SHA256SUMS'], env: { DIR: dir } }),
    shellLocal({ inline: ['echo "provisioned $IMGC_HOST:$IMGC_PORT as $IMGC_USER"'] }),
  ],
});
