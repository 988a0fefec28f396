import type { Kysely, Transaction } from "kysely";
import type { Tables } from "./tables";

/** The catalog or a transaction on it: every catalog query takes either, so the caller decides what commits together. */
export type Db = Kysely<Tables> | Transaction<Tables>;
