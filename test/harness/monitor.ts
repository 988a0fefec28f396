// The engine side of the program protocol: the ResourceMonitor and Engine gRPC services that the
// Node.js SDK inside `cmd/run` talks to. It only translates RPCs; what a registration does
// (check, diff, create ...) is decided by the handlers it is given.
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { ResourceMonitorService, type IResourceMonitorServer } from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { EngineService, type IEngineServer } from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import { fromStruct, toStruct, type PropertyMap } from "./values";

/**
 * An alias as RegisterResourceRequest.aliases carries it (sdk/proto/alias.proto): an old URN, or a spec
 * whose empty fields mean "as the resource is now". `parent` is a URN; `noParent` says the old one had none.
 */
export type AliasRequest = { urn: string } | { spec: { name: string; type: string; stack: string; project: string; parentUrn?: string; noParent: boolean } };

export interface Registration {
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  /** The inputs as the SDK sent them: secrets still wrapped (see secrets.ts). */
  inputs: PropertyMap;
  /** The resource option, tri-state as in the request (deleteBeforeReplaceDefined): undefined = the provider decides. */
  deleteBeforeReplace: boolean | undefined;
  /** The resource option: outputs the state keeps encrypted, as Pulumi keeps secrets. */
  additionalSecretOutputs: string[];
  /** Unset options are inherited from the parent by the engine (source_eval.go inheritFromParent). */
  protect: boolean | undefined;
  retainOnDelete: boolean | undefined;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  aliases: AliasRequest[];
  /** URNs: dependsOn plus every resource an input came from. */
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
}

/** The options and inputs of a RegisterResourceRequest, read as the engine's resource monitor reads them. */
function readRegistration(req: resproto.RegisterResourceRequest): Registration {
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => {
    if (deps.getUrnsList().length) propertyDependencies[key] = deps.getUrnsList();
  });
  // Sent when the monitor answers supportsFeature("aliasSpecs"); older monitors get aliasUrns only.
  const aliases: AliasRequest[] = req.getAliasesList().map((a) => {
    const spec = a.getSpec();
    if (!spec) return { urn: a.getUrn() };
    const parentUrn = spec.hasParenturn() ? spec.getParenturn() : undefined;
    return {
      spec: { name: spec.getName(), type: spec.getType(), stack: spec.getStack(), project: spec.getProject(), parentUrn, noParent: spec.getNoparent() },
    };
  });
  for (const urn of req.getAliasurnsList()) aliases.push({ urn });
  return {
    type: req.getType(),
    name: req.getName(),
    parent: req.getParent(),
    custom: req.getCustom(),
    inputs: fromStruct(req.getObject()),
    deleteBeforeReplace: req.getDeletebeforereplacedefined() || req.getDeletebeforereplace() ? req.getDeletebeforereplace() : undefined,
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    protect: req.hasProtect() ? req.getProtect() : undefined,
    retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : undefined,
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    aliases,
    dependencies: req.getDependenciesList(),
    propertyDependencies,
  };
}

/**
 * @pulumi/pulumi 3.248 asks for each of these at start-up (runtime/settings.js awaitFeatureSupport). With
 * aliasSpecs it sends `aliases` as Alias{urn | spec} and leaves resolving them to the engine; without it,
 * it sends only alias URNs (runtime/resource.js, registerResource / prepareResource).
 *
 * Features the monitor declares, as the engine answers SupportsFeature (pkg/resource/deploy/source_eval.go):
 * secrets (the SDK then sends secret values wrapped, and reads wrapped ones back as secret outputs) and
 * aliasSpecs (aliases sent as specs for the engine to resolve). Resource references and output values stay
 * off: the SDK then sends resources as their URN or id and plain values, which is all dynamic providers take.
 */
const SUPPORTED_FEATURES = new Set(["secrets", "aliasSpecs"]);

export interface Registered {
  urn: string;
  id: string;
  outputs: PropertyMap;
}

export type LogSeverity = "debug" | "info" | "warning" | "error";

export interface MonitorHandlers {
  register(reg: Registration): Promise<Registered>;
  registerOutputs(urn: string, outputs: PropertyMap): void;
  log(severity: LogSeverity, message: string, urn: string): void;
}

export interface RunningMonitor {
  /** host:port serving both ResourceMonitor and Engine. */
  address: string;
  close(): Promise<void>;
}

const severities: Record<number, LogSeverity> = {
  [engineproto.LogSeverity.DEBUG]: "debug",
  [engineproto.LogSeverity.INFO]: "info",
  [engineproto.LogSeverity.WARNING]: "warning",
  [engineproto.LogSeverity.ERROR]: "error",
};

export async function startMonitor(handlers: MonitorHandlers): Promise<RunningMonitor> {
  let rootResource = "";
  const monitor: Partial<IResourceMonitorServer> = {
    supportsFeature(call, callback) {
      callback(null, new resproto.SupportsFeatureResponse().setHassupport(SUPPORTED_FEATURES.has(call.request.getId())));
    },
    registerResource(call, callback) {
      handlers.register(readRegistration(call.request)).then(
        (done) => {
          const resp = new resproto.RegisterResourceResponse();
          resp.setUrn(done.urn).setId(done.id).setObject(toStruct(done.outputs));
          callback(null, resp);
        },
        // A failed step ends the deployment: like the engine, answer UNAVAILABLE so the SDK stops
        // quietly instead of logging the same failure again with a stack trace; the handler has
        // already reported the error, naming the resource.
        (err: Error) => callback({ code: grpc.status.UNAVAILABLE, details: err.message }),
      );
    },
    registerResourceOutputs(call, callback) {
      handlers.registerOutputs(call.request.getUrn(), fromStruct(call.request.getOutputs()));
      callback(null, new Empty());
    },
    registerPackage(call, callback) {
      // Dynamic resources register no package; answer with a stable reference for anything that does.
      callback(null, new resproto.RegisterPackageResponse().setRef(`${call.request.getName()}@${call.request.getVersion()}`));
    },
    signalAndWaitForShutdown(_call, callback) {
      // Registrations are answered only once their steps are done, so there is nothing left to wait for.
      callback(null, new Empty());
    },
  };
  const engine: Partial<IEngineServer> = {
    log(call, callback) {
      const req = call.request;
      handlers.log(severities[req.getSeverity()] ?? "info", req.getMessage(), req.getUrn());
      callback(null, new Empty());
    },
    getRootResource(_call, callback) {
      callback(null, new engineproto.GetRootResourceResponse().setUrn(rootResource));
    },
    setRootResource(call, callback) {
      rootResource = call.request.getUrn();
      callback(null, new engineproto.SetRootResourceResponse());
    },
  };

  const server = new grpc.Server();
  // Methods left out (Invoke, Call, ReadResource, transforms, hooks) answer UNIMPLEMENTED.
  server.addService(ResourceMonitorService, monitor as grpc.UntypedServiceImplementation);
  server.addService(EngineService, engine as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
