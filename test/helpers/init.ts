// Global mocha setup: plain output, no update nags, loopback only.
process.env.FORCE_COLOR = '0'
process.env.NO_COLOR = '1'
process.env.COLUMNS = '160'
process.env.OCLIF_SKIP_NEW_VERSION_CHECK = 'true'
