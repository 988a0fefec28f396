import * as pulumi from "@pulumi/pulumi";
import type { NetworkMappingSpec, NetworkSpec } from "../schema";
import { providerFor } from "./dynamic";
import { MODULE, propsOf, type NamedArgs, type VaultObjectArgs } from "./resource";

const networkProvider = providerFor("Network");
const mappingProvider = providerFor("NetworkMapping");

export type NetworkArgs = NamedArgs<NetworkSpec>;

/** A recovery network of a recovery site, with its subnets. Any change replaces it. */
export class Network extends pulumi.dynamic.Resource {
  declare readonly vault: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly site: pulumi.Output<string>;
  declare readonly subnets: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
    super(networkProvider, name, propsOf(name, args, []), opts, MODULE, "Network");
  }
}

export type NetworkMappingArgs = VaultObjectArgs<NetworkMappingSpec>;

/** Source network (as the primary site names it) → recovery network. source replaces; target updates. */
export class NetworkMapping extends pulumi.dynamic.Resource {
  declare readonly vault: pulumi.Output<string>;
  declare readonly source: pulumi.Output<string>;
  declare readonly target: pulumi.Output<string>;

  constructor(name: string, args: NetworkMappingArgs, opts?: pulumi.CustomResourceOptions) {
    super(mappingProvider, name, propsOf(name, args, [], false), opts, MODULE, "NetworkMapping");
  }
}
