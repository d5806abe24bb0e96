#!/usr/bin/env node
// The installed entry point: the CLI is compiled to dist/ by `npm run build` (run by `npm ci`).
import "../dist/cli/main.js";
