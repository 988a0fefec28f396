// Runs the real `@pulumi/pulumi/cmd/dynamic-provider` process and calls it over gRPC, the way the
// engine drives the `pulumi-nodejs` provider plugin under `pulumi up`.
import { spawn, type ChildProcess } from "node:child_process";
import { sdkEntry } from "./pulumi-sdk";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import { fromStruct, toStruct, type PropertyMap } from "./values";

export interface CheckFailure {
  property: string;
  reason: string;
}

export type DiffResult =
  | { changes: "none" }
  /** `changedKeys` are the DiffResponse's `diffs`: the dynamic provider never sends them (cmd/dynamic-provider diff). */
  | { changes: "some"; replaces: string[]; changedKeys: string[]; deleteBeforeReplace: boolean }
  /** The provider left `changes` out: the engine then compares inputs itself. */
  | { changes: "unknown" };

export interface ReadResult {
  /** Empty when the resource is gone. */
  id: string;
  outputs: PropertyMap;
  inputs?: PropertyMap;
}

const DiffChanges = provproto.DiffResponse.DiffChanges;

export class DynamicProvider {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: ResourceProviderClient,
  ) {}

  /**
   * Starts the provider with the program directory as its cwd (serialized `require`s resolve from there).
   * Its stdout after the port line goes to `output`, line by line: the CLI shows a dynamic provider's
   * stdout as info messages (pulumi/pulumi#18253, CLI 3.146), the only way its hooks can tell the user something.
   */
  static async start(cwd: string, engineAddress: string, env: NodeJS.ProcessEnv, output: (line: string) => void = () => undefined): Promise<DynamicProvider> {
    const entry = sdkEntry(cwd, "cmd/dynamic-provider");
    const child = spawn(process.execPath, [entry, engineAddress], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    // Kept for the start-up error only: hook failures come back as gRPC errors with their message.
    const stderr: string[] = [];
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
    const port = await new Promise<string>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      lines.once("line", (line) => {
        resolve(line.trim());
        lines.on("line", output);
      });
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`dynamic-provider exited with ${code} before listening: ${stderr.join("")}`)));
    });
    const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new DynamicProvider(child, client);
  }

  async configure(config: PropertyMap): Promise<void> {
    const req = new provproto.ConfigureRequest().setArgs(toStruct(config)).setAcceptsecrets(false).setAcceptresources(false);
    await this.call("Configure", (cb) => this.client.configure(req, cb));
  }

  async check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<{ inputs: PropertyMap; failures: CheckFailure[] }> {
    const req = new provproto.CheckRequest().setUrn(urn).setOlds(toStruct(olds)).setNews(toStruct(news));
    const resp = await this.call<provproto.CheckResponse>("Check", (cb) => this.client.check(req, cb));
    const failures = resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
    return { inputs: fromStruct(resp.getInputs()), failures };
  }

  async diff(urn: string, id: string, oldOutputs: PropertyMap, news: PropertyMap): Promise<DiffResult> {
    const req = new provproto.DiffRequest().setUrn(urn).setId(id).setOlds(toStruct(oldOutputs)).setNews(toStruct(news));
    const resp = await this.call<provproto.DiffResponse>("Diff", (cb) => this.client.diff(req, cb));
    switch (resp.getChanges()) {
      case DiffChanges.DIFF_NONE:
        return { changes: "none" };
      case DiffChanges.DIFF_SOME:
        return { changes: "some", replaces: resp.getReplacesList(), changedKeys: resp.getDiffsList(), deleteBeforeReplace: resp.getDeletebeforereplace() };
      default:
        return { changes: "unknown" };
    }
  }

  async create(urn: string, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }> {
    const req = new provproto.CreateRequest().setUrn(urn).setProperties(toStruct(inputs));
    const resp = await this.call<provproto.CreateResponse>("Create", (cb) => this.client.create(req, cb));
    return { id: resp.getId(), outputs: fromStruct(resp.getProperties()) };
  }

  async update(urn: string, id: string, oldOutputs: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
    const req = new provproto.UpdateRequest().setUrn(urn).setId(id).setOlds(toStruct(oldOutputs)).setNews(toStruct(news));
    const resp = await this.call<provproto.UpdateResponse>("Update", (cb) => this.client.update(req, cb));
    return fromStruct(resp.getProperties());
  }

  async read(urn: string, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<ReadResult> {
    const req = new provproto.ReadRequest().setUrn(urn).setId(id).setProperties(toStruct(outputs)).setInputs(toStruct(inputs));
    const resp = await this.call<provproto.ReadResponse>("Read", (cb) => this.client.read(req, cb));
    const readInputs = resp.getInputs();
    return { id: resp.getId(), outputs: fromStruct(resp.getProperties()), inputs: readInputs ? fromStruct(readInputs) : undefined };
  }

  async delete(urn: string, id: string, outputs: PropertyMap): Promise<void> {
    const req = new provproto.DeleteRequest().setUrn(urn).setId(id).setProperties(toStruct(outputs));
    await this.call("Delete", (cb) => this.client.delete(req, cb));
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    // The provider has no shutdown RPC: the engine kills the plugin process, and so do we.
    this.child.kill("SIGTERM");
    await exited;
  }

  /** Turns a gRPC callback into a promise; errors carry the provider's own message (what a hook threw). */
  private call<T>(method: string, invoke: (cb: (err: grpc.ServiceError | null, resp: T) => void) => unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      invoke((err, resp) => {
        if (err) reject(initFailure(err) ?? new Error(err.details || `${method} failed: ${err.message}`));
        else resolve(resp);
      });
    });
  }
}

/**
 * A create or update that failed after the resource came to exist: the provider packs its id and
 * properties into the status details (ErrorResourceInitFailed), and the engine keeps them in the state.
 */
export class ResourceInitError extends Error {
  constructor(
    message: string,
    readonly id: string,
    readonly properties: PropertyMap,
    readonly reasons: string[],
  ) {
    super(message);
  }
}

function initFailure(err: grpc.ServiceError): ResourceInitError | undefined {
  const bin = err.metadata?.get("grpc-status-details-bin")[0];
  if (!bin) return undefined;
  for (const detail of statusproto.Status.deserializeBinary(new Uint8Array(bin as Buffer)).getDetailsList()) {
    if (!detail.getTypeUrl().endsWith("pulumirpc.ErrorResourceInitFailed")) continue;
    const failed = provproto.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
    return new ResourceInitError(err.details, failed.getId(), fromStruct(failed.getProperties()), failed.getReasonsList());
  }
  return undefined;
}
