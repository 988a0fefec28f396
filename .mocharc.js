// Type-checking happens once in `npm run build` (part of `npm test`); mocha only transpiles.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
module.exports = {
  require: ["ts-node/register"],
  extension: ["ts"],
  spec: ["test/**/*.test.ts"],
  timeout: 180000,
  reporter: "spec",
};
