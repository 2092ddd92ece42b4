/**
 * The checksums S3 verifies on uploads (`x-amz-checksum-<algorithm>`, base64 of the big-endian digest) and
 * `Content-MD5`, computed incrementally so a body streams through the front while it is checked.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3Error } from './errors';

const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface Hasher {
  update(data: Buffer): void;
  /** The digest, big-endian bytes. */
  digest(): Buffer;
}

function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

/** `x-amz-checksum-crc32` → `crc32`; undefined for any other header. */
export function checksumAlgorithmOfHeader(header: string): ChecksumAlgorithm | undefined {
  const name = /^x-amz-checksum-([a-z0-9]+)$/.exec(header.toLowerCase())?.[1];
  return name !== undefined && isChecksumAlgorithm(name) ? name : undefined;
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5), its table split in 32-bit halves for speed. */
const CRC64_TABLE = (() => {
  const poly = 0x9a6c9329ac4bc9b5n;
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? poly ^ (c >> 1n) : c >> 1n;
    hi[n] = Number(c >> 32n);
    lo[n] = Number(c & 0xffffffffn);
  }
  return { hi, lo };
})();

function crc32cHasher(): Hasher {
  let crc = 0xffffffff;
  return {
    update(data) {
      for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
    },
    digest: () => uint32(crc ^ 0xffffffff),
  };
}

function crc64nvmeHasher(): Hasher {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  return {
    update(data) {
      for (const byte of data) {
        const index = (lo ^ byte) & 0xff;
        lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_TABLE.lo[index] ?? 0)) >>> 0;
        hi = ((hi >>> 8) ^ (CRC64_TABLE.hi[index] ?? 0)) >>> 0;
      }
    },
    digest: () => Buffer.concat([uint32(~hi), uint32(~lo)]),
  };
}

/** An incremental hasher for a checksum algorithm, or `md5` (Content-MD5). */
export function hasherFor(algorithm: ChecksumAlgorithm | 'md5'): Hasher {
  switch (algorithm) {
    case 'crc32': {
      let crc = 0;
      return { update: (data) => (crc = crc32(data, crc)), digest: () => uint32(crc) };
    }
    case 'crc32c':
      return crc32cHasher();
    case 'crc64nvme':
      return crc64nvmeHasher();
    case 'sha1':
    case 'sha256':
    case 'md5': {
      const hash = createHash(algorithm);
      return { update: (data) => hash.update(data), digest: () => hash.digest() };
    }
  }
}

/** The base64 checksum of a whole buffer. */
export function checksumOf(algorithm: ChecksumAlgorithm | 'md5', data: Buffer): string {
  const hasher = hasherFor(algorithm);
  hasher.update(data);
  return hasher.digest().toString('base64');
}

/** The error S3 answers when a body does not match the checksum sent with it. */
export function badDigest(algorithm: ChecksumAlgorithm | 'md5'): S3Error {
  return algorithm === 'md5'
    ? new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.')
    : new S3Error(400, 'BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
}

/** Checks a declared value is well-formed base64 of the algorithm's digest length (S3's InvalidDigest / InvalidRequest otherwise). */
export function assertChecksumValue(algorithm: ChecksumAlgorithm | 'md5', value: string): void {
  const lengths: Record<ChecksumAlgorithm | 'md5', number> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32, md5: 16 };
  const ok = /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === lengths[algorithm];
  if (ok) return;
  if (algorithm === 'md5') throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  throw new S3Error(400, 'InvalidRequest', `Value for x-amz-checksum-${algorithm} header is invalid.`);
}
