// After an H5 build, writes a brotli (.br) and a gzip (.gz) copy beside every text asset of at
// least 1 KB, at the highest levels, once: the server negotiates Content-Encoding and sends them
// as they are, so no request pays for compression.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const TEXT = /\.(js|css|html|svg|json|txt|map)$/;

function* files(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

module.exports = (ctx) => {
  ctx.onBuildComplete(() => {
    if (process.env.TARO_ENV !== 'h5') return;
    for (const file of files(ctx.paths.outputPath)) {
      if (!TEXT.test(file)) continue;
      const data = fs.readFileSync(file);
      if (data.length < 1024) continue;
      fs.writeFileSync(
        `${file}.br`,
        zlib.brotliCompressSync(data, {
          params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        }),
      );
      fs.writeFileSync(`${file}.gz`, zlib.gzipSync(data, { level: 9 }));
    }
  });
};
