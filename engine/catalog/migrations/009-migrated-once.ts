import { sql, type Kysely } from "kysely";

/**
 * A migration lives in an item's failover state alone (inventory/item-state.ts). Items migrated before
 * held it in their protection state too; that state is read no more once migrated, so it becomes the
 * protection state they had when the migration ran (always Protected or ResyncRequired: the failover
 * needed one), taken as Protected.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update items set state = 'Protected' where state = 'Migrated'`.execute(db);
}
