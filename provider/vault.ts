import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./dynamic";
import { MODULE, propsOf } from "./resource";
import { VAULT_OUTPUTS } from "../schema";

const provider = providerFor("Vault");

export interface VaultArgs {
  /** The vault directory (made absolute where the program runs). */
  path: pulumi.Input<string>;
}

/**
 * A vault: catalog and block store in a directory, served by a daemon. Without `lifeboat:endpoint`
 * the provider starts the vault's own daemon (creating the vault if needed). Deleting the resource
 * revokes its registration key and keeps the directory and its recovery data.
 */
export class Vault extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  /** The daemon's URL. */
  declare readonly endpoint: pulumi.Output<string>;
  /** For agents on other hosts (`lifeboat agent --registration-key`); a secret, issued at create, valid 5 days. */
  declare readonly registrationKey: pulumi.Output<string>;
  declare readonly registrationKeyExpiresAt: pulumi.Output<string>;

  constructor(name: string, args: VaultArgs, opts?: pulumi.CustomResourceOptions) {
    const props = propsOf(name, args, VAULT_OUTPUTS, false);
    super(provider, name, props, pulumi.mergeOptions(opts, { additionalSecretOutputs: ["registrationKey"] }), MODULE, "Vault");
  }
}
