/**
 * Credentials and endpoints as AWS users expect: explicit keys (secrets) when given, else the
 * SDK's default chain (environment, shared config and credentials files with `AWS_PROFILE` or
 * `profile`, SSO, process credentials, container and instance roles), optionally wrapped in an
 * assumed role. Credentials are never logged: only the principal's ARN is.
 */
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from "@aws-sdk/credential-providers";

/** A credential provider, as the SDK clients take it. */
export type AwsCredentialIdentityProvider = ReturnType<typeof fromNodeProviderChain>;

/** The options that decide credentials and endpoints (resolved: no lazy values). */
export interface AwsAccessOptions {
  readonly profile?: string;
  readonly accessKey?: string;
  readonly secretKey?: string;
  readonly sessionToken?: string;
  readonly assumeRole?: { readonly roleArn: string; readonly sessionName?: string; readonly externalId?: string; readonly durationSeconds?: number };
  readonly endpoints?: { readonly ec2?: string; readonly sts?: string; readonly s3?: string };
}

/** The endpoint of a service: the option, else `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else the SDK's. */
export function endpointFor(service: "ec2" | "sts" | "s3", options: AwsAccessOptions): string | undefined {
  return options.endpoints?.[service] ?? process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? process.env.AWS_ENDPOINT_URL ?? undefined;
}

/** The credential provider for these options (memoised by the SDK). */
export function credentialsFor(options: AwsAccessOptions, region: string): AwsCredentialIdentityProvider {
  const base: AwsCredentialIdentityProvider = options.accessKey
    ? async () => ({ accessKeyId: options.accessKey!, secretAccessKey: options.secretKey ?? "", ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}) })
    : options.profile
      ? fromIni({ profile: options.profile, clientConfig: { region } })
      : fromNodeProviderChain({ clientConfig: { region } });
  if (!options.assumeRole) return base;
  const sts = endpointFor("sts", options);
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: {
      RoleArn: options.assumeRole.roleArn,
      RoleSessionName: options.assumeRole.sessionName ?? "imgc",
      ...(options.assumeRole.externalId ? { ExternalId: options.assumeRole.externalId } : {}),
      ...(options.assumeRole.durationSeconds ? { DurationSeconds: options.assumeRole.durationSeconds } : {}),
    },
    clientConfig: { region, ...(sts ? { endpoint: sts } : {}) },
  });
}
