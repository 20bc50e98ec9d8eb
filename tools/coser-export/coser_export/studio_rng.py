"""The studio's seeded Gaussian stream (packages/nodes/src/coser/rng.ts) in Python: xoshiro128** seeded through
splitmix32, Marsaglia's polar Box-Muller, the second normal of each pair kept. Fixtures and the tool's torch
reference feed the reproduction's sampler from this stream, so that the studio, drawing the same stream in the
same order, must reach the same latents."""

from __future__ import annotations

import math

import numpy as np

_M32 = 0xFFFFFFFF


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def _splitmix32(state: int):
    s = state & _M32

    def nxt() -> int:
        nonlocal s
        s = (s + 0x9E3779B9) & _M32
        z = s
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & _M32
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & _M32
        return (z ^ (z >> 16)) & _M32

    return nxt


class StudioRng:
    def __init__(self, seed: int):
        init = _splitmix32(seed)
        self.a, self.b, self.c, self.d = init(), init(), init(), init()
        self.spare = 0.0
        self.has_spare = False

    def _next(self) -> int:
        b = self.b
        result = (_rotl((b * 5) & _M32, 7) * 9) & _M32
        t = (b << 9) & _M32
        self.c ^= self.a
        self.d ^= b
        self.b ^= self.c
        self.a ^= self.d
        self.c ^= t
        self.d = _rotl(self.d, 11)
        return result

    def _signed(self) -> float:
        return (self._next() + 0.5) / 2147483648 - 1

    def _pair(self) -> float:
        while True:
            u = self._signed()
            v = self._signed()
            s = u * u + v * v
            if 0 < s < 1:
                break
        m = math.sqrt((-2 * math.log(s)) / s)
        self.spare = v * m
        return u * m

    def normal(self) -> float:
        if self.has_spare:
            self.has_spare = False
            return self.spare
        first = self._pair()
        self.has_spare = True
        return first

    def take(self, count: int) -> np.ndarray:
        """The next `count` normals as float32 (the studio fills Float32Arrays)."""
        return np.array([self.normal() for _ in range(count)], dtype=np.float64).astype(np.float32)
