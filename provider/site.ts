import * as pulumi from "@pulumi/pulumi";
import type { SiteSpecInput } from "../schema";
import { providerFor } from "./dynamic";
import { MODULE, propsOf, type NamedArgs } from "./resource";

const provider = providerFor("Site");

export type SiteArgs = NamedArgs<SiteSpecInput>;

/** A source site (hyperv, vmm, physical) with hosts, or a recovery site with its directory. name, kind and path replace; hosts update in place. */
export class Site extends pulumi.dynamic.Resource {
  declare readonly vault: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly kind: pulumi.Output<SiteSpecInput["kind"]>;
  declare readonly path: pulumi.Output<string | undefined>;
  declare readonly hosts: pulumi.Output<string[]>;

  constructor(name: string, args: SiteArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, propsOf(name, args, ["path", "hosts"]), opts, MODULE, "Site");
  }
}
