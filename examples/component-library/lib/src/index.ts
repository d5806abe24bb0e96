/**
 * @example/imgc-web-components: components for a small nginx web server image, built from
 * imgc's stdlib and from files this package ships beside its code (a template and a script),
 * which it points at with `new URL("./file", import.meta.url)` so they are found wherever the
 * package is installed, and hashed by content into the image's cache key.
 */
import type { Input } from "imgc";
import { shell, type ProvisionerSpec } from "imgc/provisioners";
import { files, packages, services, users, type ComponentOptions } from "imgc/stdlib";

/** Options of `webServer`. */
export interface WebServerOptions extends ComponentOptions {
  /**
   * Port nginx listens on.
   * @default 80
   * @example webServer({ port: 8080 })
   */
  readonly port?: Input<number>;
  /**
   * `server_name` of the site.
   * @default "_" (any name)
   * @example webServer({ serverName: "www.example.com" })
   */
  readonly serverName?: Input<string>;
  /**
   * Text of the default page.
   * @default "It works"
   * @example webServer({ greeting: t`Release ${version}` })
   */
  readonly greeting?: Input<string>;
}

/**
 * nginx serving a static site from /srv/www: installed, configured from this package's template,
 * web root prepared by this package's script, enabled at boot.
 *
 * @example
 * provision: [webServer({ port: 8080, serverName: "www.example.com" })]
 */
export function webServer(options: WebServerOptions = {}): ProvisionerSpec[] {
  const { port = 80, serverName = "_", greeting = "It works", ...common } = options;
  return [
    packages.install(["nginx"], common),
    ...files.put("/etc/nginx/sites-available/default", {
      template: new URL("./site.conf.tpl", import.meta.url),
      values: { port, serverName },
      ...common,
    }),
    shell({
      script: new URL("./prepare-webroot.sh", import.meta.url),
      env: { WEBROOT: "/srv/www", GREETING: greeting },
      ...common,
    }),
    ...services.enable("nginx", common),
  ];
}

/** Options of `deployUser`. */
export interface DeployUserOptions extends ComponentOptions {
  /**
   * SSH public keys allowed to log in as the user.
   * @example deployUser({ authorizedKeys: ["ssh-ed25519 AAAA… ci@example"] })
   */
  readonly authorizedKeys: readonly Input<string>[];
  /**
   * Login name.
   * @default "deploy"
   * @example deployUser({ name: "release", authorizedKeys })
   */
  readonly name?: string;
}

/**
 * The account CI deploys with: owns the web root, may reload nginx through sudo, nothing else.
 *
 * @example
 * provision: [webServer(), deployUser({ authorizedKeys: [key] })]
 */
export function deployUser(options: DeployUserOptions): ProvisionerSpec[] {
  const { authorizedKeys, name = "deploy", ...common } = options;
  return [
    packages.install(["sudo"], common),
    users.add(name, {
      shell: "/bin/bash",
      groups: ["www-data"],
      authorizedKeys,
      sudoer: { commands: ["/usr/sbin/nginx -s reload"] },
      ...common,
    }),
    shell({ inline: [`chown -R ${name}:www-data /srv/www`], ...common }),
  ];
}
