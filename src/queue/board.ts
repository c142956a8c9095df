/**
 * ASHA's rung board in Redis (src/experiments/sweep/asha.ts): the values recorded at a rung in
 * arrival order, shared by every worker. One Lua script appends a run's value and returns the
 * list up to it, atomically; a run already recorded (a job resumed or restarted after its worker
 * died) gets back its first position, so the decision it gets is the one it got before.
 */
import type { Redis } from 'ioredis';
import type { RungBoard } from '../experiments/sweep/asha.ts';
import { ashaKey } from './names.ts';

const RECORD = `
local pos = redis.call('HGET', KEYS[2], ARGV[1])
if not pos then
  pos = redis.call('RPUSH', KEYS[1], ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[1], pos)
end
return redis.call('LRANGE', KEYS[1], 0, tonumber(pos) - 1)
`;

export class RedisRungBoard implements RungBoard {
  constructor(private readonly redis: Redis, private readonly sweepId: string) {}

  async record(rung: number, unit: number, value: number): Promise<number[]> {
    // String(x) is the shortest decimal that reads back to the same double (Infinity included).
    const list = (await this.redis.eval(RECORD, 2, ashaKey(this.sweepId, rung, 'values'), ashaKey(this.sweepId, rung, 'order'), String(unit), String(value))) as string[];
    return list.map(Number);
  }
}
