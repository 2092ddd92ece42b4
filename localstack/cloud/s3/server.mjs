// s3rver in a process of its own: it needs OpenSSL's legacy provider (its continuation tokens use DES), which
// must be set when Node starts. Arguments come as one JSON string: {port, address, directory}.
import S3rver from 's3rver';
import { createRequire } from 'node:module';

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
const AWSAccount = require('s3rver/lib/models/account');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
const S3Object = require('s3rver/lib/models/object');
const { DUMMY_ACCOUNT } = AWSAccount;

// Every key signs with the secret "local": `local` (tests, the CLI) and each role's `ASIALOCAL…` key, which the
// template defines after this process started. IAM is the authorizing front's (localstack/cloud/s3/front.ts);
// s3rver only looks the key up (it never checks a SigV4 signature), so any key is the one account here.
DUMMY_ACCOUNT.createKeyPair('local', 'local');
const knownAccount = AWSAccount.registry.get.bind(AWSAccount.registry);
AWSAccount.registry.get = (accessKeyId) => knownAccount(accessKeyId) ?? DUMMY_ACCOUNT;
const knownSecret = DUMMY_ACCOUNT.accessKeys.get.bind(DUMMY_ACCOUNT.accessKeys);
DUMMY_ACCOUNT.accessKeys.get = (accessKeyId) => knownSecret(accessKeyId) ?? 'local';

// The checksum an upload was verified with (the front sends it as an HTTP trailer) is kept in the object's
// metadata, so GetObject can return it as S3 does.
const CHECKSUM = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/;
// An object read back keeps only s3rver's allowed metadata: the checksum is one of them here (the front strips
// clients' own x-amz-checksum-* headers, so only a verified trailer sets it).
S3Object.ALLOWED_METADATA.push(...['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'].map((a) => `x-amz-checksum-${a}`));

// Writes land in a temporary file renamed into place once the body ended well: a request the front aborts (a
// checksum that does not match) or a client that goes away leaves the previous object as it was, as in S3.
async function writeAtomically(content, finalPath) {
  await mkdir(dirname(finalPath), { recursive: true });
  const temporary = `${finalPath}.${randomBytes(6).toString('hex')}.partial`;
  const md5 = createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(content)) {
      md5.update(content);
      size = content.length;
      await writeFile(temporary, content);
    } else {
      const count = new Transform({
        transform(chunk, _encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(content, count, createWriteStream(temporary));
    }
    await rename(temporary, finalPath);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { size, md5: md5.digest('hex') };
}

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  const { size, md5 } = await writeAtomically(object.content, objectPath);
  const trailers = object.content && !Buffer.isBuffer(object.content) ? object.content.trailers : undefined;
  for (const [name, value] of Object.entries(trailers ?? {})) if (CHECKSUM.test(name)) object.metadata[name] = value;
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size, md5 };
};

FilesystemStore.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  const partPath = join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
  const { size, md5 } = await writeAtomically(content, partPath);
  await writeFile(`${partPath}.md5`, md5);
  return { size, md5 };
};


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
