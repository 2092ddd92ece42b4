// s3rver in a process of its own: it needs OpenSSL's legacy provider (its continuation tokens use DES), which
// must be set when Node starts. Arguments come as one JSON string: {port, address, directory}.
import S3rver from 's3rver';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
// The local cloud signs every request with the access key "local"; s3rver only knows its own by default.
DUMMY_ACCOUNT.createKeyPair('local', 'local');

const options = JSON.parse(process.argv[2]);
const server = new S3rver({
  port: options.port,
  address: options.address,
  directory: options.directory,
  silent: true,
  resetOnClose: false,
});
await server.run();
process.send?.({ type: 'ready' });
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
