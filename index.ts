// The `lifeboat` package: Pulumi resources over the Lifeboat engine, and components built from them.
export * from "./provider";
export * from "./components";
