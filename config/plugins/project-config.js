// Writes the mini program's appid into dist/weapp/project.config.json after a weapp build:
// TARO_APP_ID from the environment, WeChat DevTools' tourist appid by default.
const fs = require('node:fs');
const path = require('node:path');

module.exports = (ctx) => {
  ctx.onBuildComplete(() => {
    if (process.env.TARO_ENV !== 'weapp') return;
    const file = path.join(ctx.paths.outputPath, 'project.config.json');
    if (!fs.existsSync(file)) return;
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.appid = process.env.TARO_APP_ID || 'touristappid';
    fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  });
};
