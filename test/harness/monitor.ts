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

export interface Registration {
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  inputs: PropertyMap;
  /** The resource option: replace by deleting first even if the provider does not ask for it. */
  deleteBeforeReplace: boolean;
  /** The resource option: outputs the state keeps encrypted, as Pulumi keeps secrets. */
  additionalSecretOutputs: string[];
}

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
    // Every optional feature is declined: the SDK then sends plain values (no secret or output
    // wrappers, resources as URNs), which is all dynamic providers need.
    supportsFeature(call, callback) {
      callback(null, new resproto.SupportsFeatureResponse().setHassupport(false));
    },
    registerResource(call, callback) {
      const req = call.request;
      const reg: Registration = {
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent(),
        custom: req.getCustom(),
        inputs: fromStruct(req.getObject()),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      };
      handlers.register(reg).then(
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
    signalAndWaitForShutdown(call, callback) {
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
    getRootResource(call, callback) {
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
