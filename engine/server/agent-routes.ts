import type { Route } from "./routes";

/** An agent's window report carries the changed part of each disk's block map: ~44 bytes per changed 64 KiB block. */
const WINDOW_BODY_LIMIT = 256 * 1024 * 1024;

/**
 * The agents' side of the API (ASR's split: agents write blocks to the store themselves and send the
 * engine only metadata), and the operator's routes about hosts and the registration key.
 */
export const agentRoutes: Route[] = [
  {
    method: "POST",
    url: "/v1/agents/register",
    summary: "register a source host's agent with the vault's registration key",
    body: "AgentRegistration",
    creates: true,
    access: "registration",
    response: "AgentIdentity",
    handle: (e, r) => e.registerAgent(r.body),
  },
  {
    method: "POST",
    url: "/v1/agents/:host/heartbeat",
    summary: "an agent calls in; answers with the work due for its machines",
    body: "AgentHeartbeat",
    access: "agent",
    response: "HeartbeatAnswer",
    handle: (e, r) => e.agentHeartbeat(r.params.host, r.body),
  },
  {
    method: "GET",
    url: "/v1/agents/:host/data-key",
    summary: "the vault's data key (base64; null when the vault is not encrypted): agents seal the blocks they write with it",
    access: "agent",
    response: "AgentDataKey",
    handle: (e, r) => e.agentDataKey(r.params.host),
  },
  {
    method: "GET",
    url: "/v1/agents/:host/items/:item/disks/:disk/state",
    summary: "a disk's replication state (block ids and change hashes)",
    access: "agent",
    response: "DiskStateView",
    handle: (e, r) => e.agentDiskState(r.params.host, r.params.item, r.params.disk),
  },
  {
    method: "POST",
    url: "/v1/agents/:host/blocks/lookup",
    summary: "which of these blocks the store has, and where",
    body: "BlockLookup",
    access: "agent",
    response: "BlockLookupAnswer",
    handle: async (e, r) => ({ blocks: await e.lookupBlocks(r.body) }),
  },
  {
    method: "POST",
    url: "/v1/agents/:host/windows",
    summary: "record a window an agent read (its blocks already in the store)",
    body: "AgentWindowReport",
    creates: true,
    access: "agent",
    bodyLimit: WINDOW_BODY_LIMIT,
    response: "WindowRecorded",
    handle: async (e, r) => ({ points: await e.agentWindow(r.params.host, r.body) }),
  },
  {
    method: "POST",
    url: "/v1/agents/:host/failures",
    summary: "an agent could not read a window",
    body: "AgentFailureReport",
    access: "agent",
    response: "FailureRecorded",
    handle: async (e, r) => {
      await e.agentFailure(r.params.host, r.body);
      return { recorded: true };
    },
  },

  {
    method: "POST",
    url: "/v1/registration-key/revoke",
    summary: "revoke the registration key",
    body: "NoBody",
    response: "RegistrationKeyRevoked",
    handle: async (e) => {
      await e.revokeRegistrationKey();
      return { revoked: true };
    },
  },
];
