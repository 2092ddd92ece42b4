import { storageSize } from './pic';
import type { DataItem } from './types';

/**
 * Fills `size` (one occurrence) and `offset` (from the start of the record). SYNC slack bytes are ignored;
 * an item whose size cannot be known (no PICTURE) leaves the sizes and later offsets of its record unset.
 */
export function computeLayout(records: DataItem[]): void {
  for (const record of records) {
    size(record);
    place(record, 0);
  }
}

function storageChildren(item: DataItem): DataItem[] {
  return item.children.filter((c) => c.level !== 66);
}

function size(item: DataItem): number | undefined {
  const children = storageChildren(item);
  if (children.length === 0) {
    const s = storageSize(item.usage, item.picInfo);
    if (s !== undefined) item.size = s;
    return s;
  }
  let cursor: number | undefined = 0;
  let extent: number | undefined = 0;
  const starts = new Map<string, number | undefined>();
  for (const child of children) {
    const s = size(child);
    const total = s === undefined ? undefined : s * (child.occurs?.max ?? 1);
    if (child.redefines) {
      const base = starts.get(child.redefines);
      if (base === undefined || total === undefined || extent === undefined) extent = undefined;
      else extent = Math.max(extent, base + total);
      continue;
    }
    starts.set(child.name, cursor);
    if (cursor === undefined || total === undefined) cursor = undefined;
    else cursor += total;
    if (extent !== undefined) extent = cursor === undefined ? undefined : Math.max(extent, cursor);
  }
  if (extent !== undefined) item.size = extent;
  return extent;
}

function place(item: DataItem, offset: number | undefined): void {
  if (offset !== undefined) item.offset = offset;
  let cursor = offset;
  const starts = new Map<string, number | undefined>();
  for (const child of storageChildren(item)) {
    if (child.redefines) {
      place(child, starts.get(child.redefines));
      continue;
    }
    starts.set(child.name, cursor);
    place(child, cursor);
    if (cursor !== undefined && child.size !== undefined) cursor += child.size * (child.occurs?.max ?? 1);
    else cursor = undefined;
  }
}
