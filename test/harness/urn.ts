// Pulumi URNs: urn:pulumi:<stack>::<project>::<qualified type>::<name>, where the qualified type
// chains the parents' types with `$`, leaving out the root stack resource (as the engine does).
export const STACK_TYPE = "pulumi:pulumi:Stack";

export function makeUrn(stack: string, project: string, type: string, name: string, parentUrn: string): string {
  let qualified = type;
  if (parentUrn) {
    const parentType = parentUrn.split("::")[2];
    if (parentType && parentType !== STACK_TYPE) qualified = `${parentType}$${type}`;
  }
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}
