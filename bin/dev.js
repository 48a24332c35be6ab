#!/usr/bin/env node

// @oclif/core 4 registers tsx itself (tsx/esm/api) in development mode; commands load from src/*.ts.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
