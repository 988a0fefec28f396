// Components: whole environments built from the provider resources.
export * from "./disaster-recovery-environment";
