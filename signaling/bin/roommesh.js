#!/usr/bin/env node
// The `roommesh` command. A file of its own, outside dist/, so that npm links it at install,
// before the build that writes dist/ has run (npm skips a bin whose file does not exist yet).
import '../dist/signaling/cli.js';
