/**
 * A Snowflake stand-in for tests: speaks the HTTP protocol that snowflake-sdk talks (the same
 * requests and JSON answers as Snowflake's service, on 127.0.0.1), and runs the SQL in DuckDB.
 * The real driver connects to it with `createConnection({ accessUrl: server.url, … })`.
 *
 * What it speaks:
 * - `POST /session/v1/login-request` (password login; gzip bodies), `/session/token-request`
 *   (RENEW with the master token), `/session/heartbeat`, `/session?delete=true`, `/telemetry/send`;
 * - `POST /queries/v1/query-request`: `sqlText` with `bindings` (`{"1": {type, value}}`; array
 *   binds come as one array per column) answered with a JSON rowset (`rowtype` + `rowset` of
 *   strings, as Snowflake's `queryResultFormat: json`), DML counts (`statementTypeId` + one
 *   "number of rows …" column), the session's parameters on every answer;
 * - `ALTER SESSION SET name = value, …` (kept per session; TIMESTAMP_TYPE_MAPPING and TIMEZONE
 *   change how SQL runs, as below), `BEGIN`/`COMMIT`/`ROLLBACK` (one DuckDB connection per session);
 * - Snowflake's types on DuckDB: VARIANT/OBJECT/ARRAY as JSON, NUMBER(p,s) as DECIMAL,
 *   TIMESTAMP_NTZ as TIMESTAMP, TIMESTAMP_LTZ/_TZ as TIMESTAMPTZ, and a plain `TIMESTAMP` (in a
 *   column definition or a CAST) as the session's TIMESTAMP_TYPE_MAPPING says; text binds to an
 *   LTZ value are read in the session's TIMEZONE — an account mapped to TIMESTAMP_LTZ shifts
 *   them, as Snowflake does;
 * - expiry: `expireSessionTokens()` makes every session token answer 390112 (the driver renews
 *   with its master token), `expireSessions()` makes the master tokens expire too (390112 then
 *   390114 on renewal: the session is gone, the client must log in again).
 *
 * Not spoken (answered with an error that says so): PUT/GET (stage transfers, which the driver
 * also uses for array binds above CLIENT_STAGE_ARRAY_BINDING_THRESHOLD — the login answers the
 * driver's default of 100,000 bound values), multi-statement requests, async queries.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

export interface SnowflakeServerOptions {
  /** DuckDB database file (default: in memory). */
  readonly path?: string;
  /** The account's defaults of the session parameters (what a new session starts with). */
  readonly accountParameters?: Readonly<Record<string, string | number | boolean>>;
  readonly username?: string;
  readonly password?: string;
}

export interface SnowflakeServer {
  readonly url: string;
  readonly account: string;
  /** Every SQL text received, in order. */
  readonly statements: string[];
  /** Count of requests by path (`/session/heartbeat`, `/session/v1/login-request`, …). */
  readonly calls: Map<string, number>;
  /** The current parameters of every open session. */
  sessionParameters(): Record<string, string | number | boolean>[];
  /** Session tokens expire (the driver renews them with the master token). */
  expireSessionTokens(): void;
  /** Sessions expire for good (session and master tokens): the client must log in again. */
  expireSessions(): void;
  close(): Promise<void>;
}

const ACCOUNT_DEFAULTS: Record<string, string | number | boolean> = {
  TIMEZONE: 'America/Los_Angeles',
  TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_NTZ',
  CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: 100_000,
  CLIENT_SESSION_KEEP_ALIVE: false,
  CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY: 3600,
};

interface Session {
  readonly id: number;
  token: string;
  readonly masterToken: string;
  readonly connection: DuckDBConnection;
  readonly parameters: Record<string, string | number | boolean>;
  tokenExpired: boolean;
  masterExpired: boolean;
}

interface Column {
  readonly name: string;
  readonly type: string;
  readonly scale?: number;
  readonly precision?: number;
  readonly nullable: boolean;
}

class SnowflakeError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Statement type ids the driver reads to tell DML from queries (its `statementTypeId` checks). */
const STATEMENT_TYPE = { select: 0x1000, insert: 0x3100, update: 0x3200, delete: 0x3300, ddl: 0x6000, transaction: 0x5000, alter: 0x4000 };

function parametersList(parameters: Record<string, string | number | boolean>) {
  return Object.entries(parameters).map(([name, value]) => ({ name, value }));
}

/** Snowflake's SQL on DuckDB: the type names DuckDB does not know, and TIMESTAMP per the session's mapping. */
export function translateSql(sql: string, timestampMapping: string): string {
  const plain = timestampMapping === 'TIMESTAMP_NTZ' ? 'TIMESTAMP' : 'TIMESTAMPTZ';
  let out = sql
    .replace(/\bTIMESTAMP_NTZ\b/gi, 'TIMESTAMP')
    .replace(/\bTIMESTAMP_(LTZ|TZ)\b/gi, 'TIMESTAMPTZ')
    .replace(/\b(VARIANT|OBJECT|ARRAY)\b(?!\s*\()/gi, 'JSON')
    .replace(/\bNUMBER\b/gi, 'DECIMAL')
    .replace(/\b(PARSE_JSON)\s*\(/gi, 'json(')
    .replace(/\bAS\s+TIMESTAMP\b(?!TZ)/gi, `AS ${plain}`);
  // A plain TIMESTAMP in a column definition: `<name> TIMESTAMP` followed by a constraint, comma or ')'.
  if (/^\s*CREATE\s+(OR\s+REPLACE\s+)?TABLE/i.test(out)) {
    out = out.replace(/(\b\w+\s+)TIMESTAMP\b(?!TZ)(?=\s*(NOT\b|NULL\b|DEFAULT\b|,|\)))/gi, `$1${plain}`);
  }
  return out;
}

function bindValue(binding: { type: string; value: unknown }): DuckDBValue {
  const { type, value } = binding;
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) throw new SnowflakeError('002049', 'array bind passed to a single-row bind');
  const text = String(value);
  switch (type) {
    case 'FIXED':
    case 'REAL':
      return Number(text);
    case 'BOOLEAN':
      return text === 'true' || text === '1';
    default:
      return text;
  }
}

/** `bindings` as rows of values: one row for scalar binds, one per element for array binds. */
function bindRows(bindings: Record<string, { type: string; value: unknown }> | undefined): DuckDBValue[][] {
  if (!bindings) return [[]];
  const positions = Object.keys(bindings).map(Number).sort((a, b) => a - b);
  const columns = positions.map((p) => bindings[String(p)]!);
  if (!columns.some((c) => Array.isArray(c.value))) return [columns.map(bindValue)];
  const length = (columns[0]!.value as unknown[]).length;
  return Array.from({ length }, (_, row) => columns.map((c) => bindValue({ type: c.type, value: (c.value as unknown[])[row] })));
}

const pad9 = (n: bigint) => n.toString().padStart(9, '0');
function epochText(micros: bigint): string {
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
  const rest = micros - seconds * 1_000_000n;
  return `${seconds}.${pad9(rest * 1000n)}`;
}

/** DuckDB's result type as Snowflake's rowtype entry, and the value as Snowflake's JSON rowset text. */
function columnOf(name: string, type: DuckDBType): Column {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { name, type: 'boolean', nullable: true };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
      return { name, type: 'fixed', scale: 0, precision: 38, nullable: true };
    case DuckDBTypeId.DECIMAL:
      return { name, type: 'fixed', scale: (type as unknown as { scale: number }).scale, precision: (type as unknown as { width: number }).width, nullable: true };
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { name, type: 'real', nullable: true };
    case DuckDBTypeId.TIMESTAMP:
      return { name, type: 'timestamp_ntz', scale: 9, nullable: true };
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { name, type: 'timestamp_ltz', scale: 9, nullable: true };
    case DuckDBTypeId.DATE:
      return { name, type: 'date', nullable: true };
    default:
      return { name, type: type.alias === 'JSON' ? 'variant' : 'text', nullable: true };
  }
}

function textOf(value: DuckDBValue, column: Column): string | null {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'boolean':
      return value ? '1' : '0';
    case 'timestamp_ntz':
    case 'timestamp_ltz':
      return epochText((value as unknown as { micros: bigint }).micros);
    case 'date':
      return String((value as unknown as { days: number }).days);
    default:
      return typeof value === 'object' ? value.toString() : String(value);
  }
}

function statementType(sql: string): number {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  if (verb === 'INSERT') return STATEMENT_TYPE.insert;
  if (verb === 'UPDATE') return STATEMENT_TYPE.update;
  if (verb === 'DELETE') return STATEMENT_TYPE.delete;
  if (['CREATE', 'DROP', 'ALTER'].includes(verb)) return STATEMENT_TYPE.ddl;
  if (['BEGIN', 'COMMIT', 'ROLLBACK', 'START'].includes(verb)) return STATEMENT_TYPE.transaction;
  return STATEMENT_TYPE.select;
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
  return body.length ? JSON.parse(body.toString('utf8')) : {};
}

export async function startSnowflakeServer(options: SnowflakeServerOptions = {}): Promise<SnowflakeServer> {
  const database = await DuckDBInstance.create(options.path ?? ':memory:');
  const sessions = new Map<string, Session>();
  const byMaster = new Map<string, Session>();
  const statements: string[] = [];
  const calls = new Map<string, number>();
  const accountParameters = { ...ACCOUNT_DEFAULTS, ...options.accountParameters };
  let nextSession = 1;

  const sessionOf = (req: IncomingMessage): Session => {
    const token = /Token="([^"]+)"/.exec(String(req.headers.authorization ?? ''))?.[1];
    const session = token ? sessions.get(token) : undefined;
    if (!session) throw new SnowflakeError('390111', 'Session no longer exists.  New login required to access the service.');
    if (session.tokenExpired) throw new SnowflakeError('390112', 'Your session has expired. Please login again.');
    return session;
  };

  async function login(body: any) {
    const data = body.data ?? {};
    if ((options.username ?? 'svc') !== data.LOGIN_NAME || (options.password ?? 'secret') !== data.PASSWORD) {
      throw new SnowflakeError('390100', 'Incorrect username or password was specified.');
    }
    const connection = await database.connect();
    const session: Session = { id: nextSession++, token: randomUUID(), masterToken: randomUUID(), connection, parameters: { ...accountParameters, ...data.SESSION_PARAMETERS }, tokenExpired: false, masterExpired: false };
    await applyTimezone(session);
    sessions.set(session.token, session);
    byMaster.set(session.masterToken, session);
    return { token: session.token, masterToken: session.masterToken, validityInSeconds: 3600, masterValidityInSeconds: 14400, sessionId: session.id, parameters: parametersList(session.parameters), sessionInfo: { databaseName: 'DB', schemaName: 'FC', warehouseName: 'WH', roleName: 'R' } };
  }

  async function applyTimezone(session: Session) {
    await session.connection.run(`SET TimeZone = '${String(session.parameters.TIMEZONE).replace(/'/g, "''")}'`);
  }

  function renew(req: IncomingMessage, body: any) {
    const master = /Token="([^"]+)"/.exec(String(req.headers.authorization ?? ''))?.[1];
    const session = master ? byMaster.get(master) : undefined;
    if (!session || session.masterExpired) throw new SnowflakeError('390114', 'Authentication token has expired.  The user must authenticate again.');
    if (body.oldSessionToken !== session.token) throw new SnowflakeError('390111', 'Session no longer exists.');
    sessions.delete(session.token);
    session.token = randomUUID();
    session.tokenExpired = false;
    sessions.set(session.token, session);
    return { sessionToken: session.token, validityInSecondsST: 3600, masterToken: session.masterToken, validityInSecondsMT: 14400 };
  }

  async function query(session: Session, body: any) {
    const sqlText = String(body.sqlText ?? '');
    statements.push(sqlText);
    const queryId = randomUUID();
    const answer = (rowtype: Column[], rowset: (string | null)[][], statementTypeId: number) => ({
      parameters: parametersList(session.parameters), rowtype, rowset, total: rowset.length, returned: rowset.length, queryId, statementTypeId, queryResultFormat: 'json', finalDatabaseName: 'DB', finalSchemaName: 'FC', finalWarehouseName: 'WH', finalRoleName: 'R',
    });
    if (/^\s*(PUT|GET)\b/i.test(sqlText)) throw new SnowflakeError('000002', 'PUT/GET (stage transfers) are not implemented by the test server');
    const alter = /^\s*ALTER\s+SESSION\s+SET\s+([\s\S]+?);?\s*$/i.exec(sqlText);
    if (alter) {
      // `name = value` pairs, separated by blanks (Snowflake's grammar) or commas.
      const pairs = [...alter[1]!.matchAll(/(\w+)\s*=\s*('(?:[^']|'')*'|[^\s,]+)/g)];
      if (pairs.length === 0) throw new SnowflakeError('001003', `SQL compilation error: syntax error in ${sqlText}`);
      for (const [, name, raw] of pairs) session.parameters[name!.toUpperCase()] = raw!.replace(/^'(.*)'$/, '$1').replace(/''/g, "'");
      await applyTimezone(session);
      return answer([{ name: 'status', type: 'text', nullable: true }], [['Statement executed successfully.']], STATEMENT_TYPE.alter);
    }
    const sql = translateSql(sqlText, String(session.parameters.TIMESTAMP_TYPE_MAPPING));
    const type = statementType(sql);
    const rows = bindRows(body.bindings);
    try {
      if (type === STATEMENT_TYPE.insert || type === STATEMENT_TYPE.update || type === STATEMENT_TYPE.delete) {
        let changed = 0;
        if (rows.length > 1) {
          const prepared = await session.connection.prepare(sql);
          for (const row of rows) {
            prepared.bind(row);
            changed += Number((await prepared.run()).rowsChanged);
          }
        } else {
          changed = Number((await session.connection.run(sql, rows[0])).rowsChanged);
        }
        const label = type === STATEMENT_TYPE.insert ? 'number of rows inserted' : type === STATEMENT_TYPE.update ? 'number of rows updated' : 'number of rows deleted';
        return answer([{ name: label, type: 'fixed', scale: 0, precision: 19, nullable: false }], [[String(changed)]], type);
      }
      const reader = await session.connection.runAndReadAll(sql, rows[0]);
      const columns = reader.columnNames().map((name, i) => columnOf(name.toUpperCase(), reader.columnTypes()[i]!));
      const rowset = reader.getRows().map((row) => row.map((value, i) => textOf(value, columns[i]!)));
      if (type !== STATEMENT_TYPE.select) return answer([{ name: 'status', type: 'text', nullable: true }], [['Statement executed successfully.']], type);
      return answer(columns, rowset, type);
    } catch (error) {
      if (error instanceof SnowflakeError) throw error;
      throw new SnowflakeError('001003', `SQL compilation error: ${(error as Error).message}`);
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!;
    calls.set(path, (calls.get(path) ?? 0) + 1);
    const reply = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    (async () => {
      const body = await readBody(req);
      if (path === '/session/v1/login-request') return login(body);
      if (path === '/session/token-request') return renew(req, body);
      if (path === '/telemetry/send') return {};
      if (path === '/session' && (req.url ?? '').includes('delete=true')) {
        const session = sessionOf(req);
        sessions.delete(session.token);
        byMaster.delete(session.masterToken);
        session.connection.closeSync();
        return {};
      }
      if (path === '/session/heartbeat') {
        sessionOf(req);
        return {};
      }
      if (path === '/queries/v1/query-request') return query(sessionOf(req), body);
      throw new SnowflakeError('000001', `${req.method} ${path} is not implemented by the test server`);
    })().then(
      (data) => reply({ success: true, code: null, message: null, data }),
      (error: Error) => reply({ success: false, code: error instanceof SnowflakeError ? error.code : '000001', message: error.message, data: { queryId: randomUUID(), sqlState: '42000' } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://127.0.0.1:${port}`,
    account: 'acme',
    statements,
    calls,
    sessionParameters: () => [...sessions.values()].map((s) => ({ ...s.parameters })),
    expireSessionTokens() {
      for (const session of sessions.values()) session.tokenExpired = true;
    },
    expireSessions() {
      for (const session of sessions.values()) {
        session.tokenExpired = true;
        session.masterExpired = true;
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of new Set(sessions.values())) session.connection.closeSync();
      database.closeSync();
    },
  };
}
