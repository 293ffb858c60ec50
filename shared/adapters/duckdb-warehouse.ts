// Placeholder until the DuckDB adapter lands (issue 3); the signature is the contract.
import { NotImplemented } from '../errors';
import type { Warehouse } from '../ports/warehouse';

export async function openDuckDbWarehouse(_options: { path: string }): Promise<Warehouse> {
  throw new NotImplemented('The DuckDB warehouse adapter is not implemented yet');
}
