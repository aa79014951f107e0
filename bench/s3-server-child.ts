import { startS3TestServer } from '../test/helpers/s3-test-server.js';

/**
 * The scale-out bench's S3 server (s3rver behind the test proxy) in a process of its own, so
 * its CPU reads apart from the bench's in /proc. Usage: `node s3-server-child.js <bucket>…`;
 * prints `{"endpoint": …}` on one line once it listens, and closes on SIGTERM.
 */
const s3 = await startS3TestServer(process.argv.slice(2));
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
process.once('SIGTERM', () => {
  void s3.close().finally(() => process.exit(0));
});
