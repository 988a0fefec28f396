// Type-checking happens once in `npm run build` (part of `npm test`); mocha only transpiles.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
// `npx mocha test/x.test.ts` runs just that file: mocha would add the files named to the spec below.
const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg));
module.exports = {
  require: ["ts-node/register"],
  extension: ["ts"],
  ...(named ? {} : { spec: ["test/**/*.test.ts"] }),
  timeout: 180000,
  reporter: "spec",
};
