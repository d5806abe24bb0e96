// Two AMIs on Amazon EC2: a hardened base (EBS-backed, encrypted, copied to a second region and
// shared), and a web image built from it in each region. Credentials come from the usual AWS
// chain (AWS_PROFILE, environment, shared files, SSO, an instance role) or an assumed role.
//
//   imgc plan examples/aws/images.ts
//   imgc apply examples/aws/images.ts --var version=1.2.0
//
// Against a local EC2 API simulator instead of AWS, point the SDK at it:
//   AWS_ENDPOINT_URL=http://127.0.0.1:<port> imgc apply examples/aws/images.ts
import { image, variable, t, timestamp } from "imgc";
import { amazon } from "imgc/platforms/amazon";
import { shell, file } from "imgc/provisioners";
import { manifest } from "imgc/post";

const version = variable("version", { type: "string", default: "1.0.0", description: "The web release to bake" });
const region = variable("region", { type: "string", default: "eu-west-1", description: "Where the instances run" });
const copyTo = variable("copy_to", { type: "list", default: ["us-east-1"], description: "More regions that get a copy" });
const sshPort = variable("ssh_port", { type: "number", default: 22, description: "SSH port of the build instance" });

/** The EC2 settings both images share; each image names its own AMI. */
function ebs(amiName: ReturnType<typeof t>, source: Pick<Parameters<typeof amazon.ebs>[0], "sourceAmiFilter"> = {}) {
  return amazon.ebs({
    region,
    amiRegions: copyTo,
    ...source,
    instanceType: "t3.micro",
    ssh: { username: "admin", port: sshPort },
    amiName,
    encryptBoot: true,
    regionKmsKeyIds: { "us-east-1": "alias/imgc-images" },
    amiUsers: ["210987654321"],
    tags: { Project: "imgc-example", Version: version },
    launchBlockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 12, volumeType: "gp3", deleteOnTermination: true }],
    forceDeregister: true,
    forceDeleteSnapshot: true,
  });
}

export const base = image("base", {
  description: "Debian 12 with nginx, encrypted, in two regions",
  platforms: [ebs(t`imgc-base-${version}`, { sourceAmiFilter: { owners: ["136693071363"], name: "debian-12-amd64-*", mostRecent: true } })],
  provision: [
    shell({ inline: ["sudo apt-get update", "sudo apt-get install -y nginx"] }),
    file.upload("./files/nginx.conf", "/tmp/nginx.conf"),
    shell({ inline: ["sudo mv /tmp/nginx.conf /etc/nginx/nginx.conf"] }),
  ],
});

export default image("web", {
  from: base,
  description: "The web release on top of base, built from base's AMI in the same region",
  platforms: [ebs(t`imgc-web-${version}`)],
  provision: [shell({ inline: [t`echo ${version} | sudo tee /etc/web-version`, t`echo built at ${timestamp()}`] })],
  post: [manifest({ output: "manifest.json" })],
});
