// Placeholder until the Snowflake adapter lands (issue 3); the signature is the contract.
import { NotImplemented } from '../errors';
import type { Warehouse } from '../ports/warehouse';

export async function openSnowflakeWarehouse(_options: { secretArn: string }): Promise<Warehouse> {
  throw new NotImplemented('The Snowflake warehouse adapter is not implemented yet');
}
