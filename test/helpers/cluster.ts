import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI_PATH, childEnv, REPO_ROOT, spawnServer, type SpawnedServer } from './spawn-server.js';
import { makeTempDir } from './temp-dir.js';

type TempDir = Awaited<ReturnType<typeof makeTempDir>>;

/**
 * A scale-out deployment on this machine: N `atelier serve` processes sharing PostgreSQL,
 * Redis and an S3 bucket (or one media directory), and M `atelier worker` processes, each a
 * real child process that can be SIGKILLed and started again. Used by the multi-node test and
 * the scale-out bench.
 */
export interface ClusterOptions {
  readonly postgresUrl: string;
  readonly redisUrl: string;
  /**
   * The shared S3 bucket. Without it the nodes store media on disk, all in one MEDIA_DIR the
   * cluster creates (nodes on one machine can share a directory as nodes on many would share a
   * network filesystem); the bench compares the two.
   */
  readonly s3?: { readonly endpoint: string; readonly bucket: string; readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Extra environment for every node (lease length, runner settings, …). */
  readonly env?: Record<string, string>;
}

export interface Cluster {
  readonly nodes: SpawnedServer[];
  readonly adminToken: string;
  /** The PostgreSQL schema and Redis key prefix this cluster owns. */
  readonly schema: string;
  readonly redisPrefix: string;
  readonly databaseUrl: string;
  /** The media directory every node shares, when the cluster stores on disk. */
  readonly mediaDir: string | undefined;
  /** Starts node `i` (again, after a kill) on its own data directory and port. */
  startNode(i: number): Promise<SpawnedServer>;
  startWorker(i: number, serverUrl: string, workerToken: string): Promise<WorkerProcess>;
  close(): Promise<void>;
}

export interface WorkerProcess {
  readonly process: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The one model every node serves: rendered by remote workers only, small and quick. */
const CLUSTER_CONFIG = {
  backends: { gpu: { type: 'remote', modes: ['t2i'] } },
  models: [{ name: 'sim', backend: 'gpu', label: 'remote GPU', modes: ['t2i'], baseResolution: 64, defaultSteps: 2, defaultCfgScale: 7, defaultSampler: 'Euler', default: true }],
};

export async function startCluster(nodeCount: number, options: ClusterOptions): Promise<Cluster> {
  const id = randomBytes(4).toString('hex');
  const schema = `atelier_cluster_${id}`;
  const redisPrefix = `atelier-cluster-${id}`;
  const databaseUrl = `${options.postgresUrl}${options.postgresUrl.includes('?') ? '&' : '?'}schema=${schema}`;
  const adminToken = `atl_cluster_${randomBytes(16).toString('hex')}`;
  const dirs: TempDir[] = [];
  const root = await makeTempDir('atelier-cluster-');
  dirs.push(root);
  const configFile = join(root.dir, 'atelier.config.json');
  await writeFile(configFile, JSON.stringify(CLUSTER_CONFIG));
  const mediaDir = options.s3 ? undefined : join(root.dir, 'media');
  const storage: Record<string, string> = options.s3
    ? {
        STORAGE_URL: `s3://${options.s3.bucket}`,
        S3_ENDPOINT: options.s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: options.s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: options.s3.secretAccessKey,
      }
    : { MEDIA_DIR: mediaDir! };
  const shared = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: redisPrefix,
    ...storage,
    // Every node must sign and verify the same media URLs and accept the same admin.
    ATELIER_SIGNING_SECRET: randomBytes(32).toString('base64url'),
    ATELIER_ADMIN_TOKEN: adminToken,
    ATELIER_CONFIG: configFile,
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_CONCURRENT: '0',
    CACHE_DEFAULT_MODE: 'off',
    ...options.env,
  };
  const nodeDirs: string[] = [];
  const nodes: SpawnedServer[] = [];
  const workers = new Set<WorkerProcess>();

  async function startNode(i: number): Promise<SpawnedServer> {
    if (!nodeDirs[i]) {
      const dir = await makeTempDir(`atelier-node${i}-`);
      dirs.push(dir);
      nodeDirs[i] = dir.dir;
    }
    // A restarted node keeps its port, as it would behind a load balancer's fixed upstream.
    const port = nodes[i]?.port;
    const node = await spawnServer({ env: { ...shared, DATA_DIR: nodeDirs[i]!, ...(port ? { PORT: String(port) } : {}) }, timeoutMs: 30_000 });
    nodes[i] = node;
    return node;
  }

  // Nodes start one after the other the first time only so that start-up output stays
  // readable; concurrent starts (migrations, admin bootstrap) are covered by the db tests.
  for (let i = 0; i < nodeCount; i++) await startNode(i);

  return {
    nodes,
    adminToken,
    schema,
    redisPrefix,
    databaseUrl,
    mediaDir,
    startNode,
    async startWorker(i, serverUrl, workerToken) {
      const child = spawn(
        process.execPath,
        [CLI_PATH, 'worker', '--server', serverUrl, '--token', workerToken, '--backend', 'builtin', '--concurrency', '2', '--worker-id', `cluster-worker-${i}`, '--grace-seconds', '0'],
        { cwd: REPO_ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const worker: WorkerProcess = {
        process: child,
        output: () => out,
        async kill(signal = 'SIGKILL') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
          workers.delete(worker);
        },
      };
      workers.add(worker);
      return worker;
    },
    async close() {
      await Promise.all([...workers].map((w) => w.kill('SIGKILL')));
      await Promise.all(nodes.map((n) => n.stop(2000)));
      await Promise.all(dirs.map((d) => d.remove()));
    },
  };
}
