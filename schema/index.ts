export * from "./common";
export * from "./site";
export * from "./policy";
export * from "./item";
export * from "./recovery";
export * from "./plan";
export * from "./state";
export * from "./validate";
