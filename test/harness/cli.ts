// `npm run deploy -- preview|up|refresh|destroy DIR [--config key=value ...] [--stack NAME] [--state-dir DIR]`
// Runs a Pulumi program through the harness by hand and exits non-zero when anything failed.
import { deploy, type Action } from "./deploy";

const ACTIONS: Action[] = ["preview", "up", "refresh", "destroy"];
const USAGE = "usage: deploy preview|up|refresh|destroy DIR [--config key=value ...] [--stack NAME] [--state-dir DIR]";

interface Args {
  action: Action;
  dir: string;
  config: Record<string, string>;
  stack?: string;
  stateDir?: string;
}

function parse(argv: string[]): Args {
  const [action, dir, ...rest] = argv;
  if (!ACTIONS.includes(action as Action) || !dir) throw new Error(USAGE);
  const args: Args = { action: action as Action, dir, config: {} };
  for (let i = 0; i < rest.length; i++) {
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`${rest[i]} needs a value\n${USAGE}`);
    if (rest[i] === "--config") {
      const eq = value.indexOf("=");
      if (eq <= 0) throw new Error(`--config takes key=value, not "${value}"`);
      args.config[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (rest[i] === "--stack") args.stack = value;
    else if (rest[i] === "--state-dir") args.stateDir = value;
    else throw new Error(`unknown option ${rest[i]}\n${USAGE}`);
    i++;
  }
  return args;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const result = await deploy(args.action, args);
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exitCode = 2;
});
