// Taro build configuration, run from the repository root with sourceRoot 'client'.
import path from 'node:path';
import { defineConfig, type UserConfigExport } from '@tarojs/cli';
import devConfig from './dev';
import prodConfig from './prod';

/**
 * Build-time settings, read from the environment when `taro build` runs:
 *   TARO_APP_API_BASE      where the mini program sends API calls. The H5 build defaults to '' (same
 *                          origin, the server serves it); the mini program to http://127.0.0.1:3000,
 *                          which WeChat DevTools accepts with "不校验合法域名" ticked.
 *   TARO_APP_PAYMENT_MODE  'wechat' (real wx.login / wx.requestPayment) or 'sandbox' (the local
 *                          sandbox stands in for WeChat, so the flow works without a merchant account).
 *                          H5 always uses the sandbox. Default for the mini program: 'wechat'.
 *   TARO_APP_SANDBOX_BASE  the sandbox's address, default http://127.0.0.1:3100.
 */
export function buildSettings(env: NodeJS.ProcessEnv = process.env) {
  const h5 = env.TARO_ENV === 'h5';
  const release = !h5 && env.NODE_ENV === 'production';
  // A development build (npm run dev:weapp) defaults to this machine and the sandbox; a release never does.
  const mode = h5 ? 'sandbox' : (env.TARO_APP_PAYMENT_MODE ?? (release ? 'wechat' : 'sandbox'));
  if (mode !== 'wechat' && mode !== 'sandbox') throw new Error(`TARO_APP_PAYMENT_MODE must be wechat or sandbox, not ${mode}`);
  const apiBase = env.TARO_APP_API_BASE ?? (h5 ? '' : release ? '' : 'http://127.0.0.1:3000');
  if (release && mode === 'wechat' && !/^https:\/\/[^/]+/.test(apiBase)) {
    throw new Error(
      `A release build of the mini program needs TARO_APP_API_BASE set to your server's https:// address (got ${apiBase ? JSON.stringify(apiBase) : 'nothing'}): ` +
        'WeChat only lets a released mini program call https domains listed in its admin console (开发管理 → 服务器域名). ' +
        'Example: TARO_APP_API_BASE=https://shop.example.com npm run build:weapp. For DevTools against this machine, use npm run dev:weapp.',
    );
  }
  return {
    API_BASE: apiBase,
    PAYMENT_MODE: mode,
    // Only a build that talks to the sandbox carries its address.
    SANDBOX_BASE: env.TARO_APP_SANDBOX_BASE ?? (mode === 'sandbox' ? 'http://127.0.0.1:3100' : ''),
  };
}

export default defineConfig<'webpack5'>(async (merge) => {
  const settings = buildSettings();
  // TARO_APP_OUTPUT: another output folder (the tests build a sandbox-mode weapp beside the release one).
  const outputRoot = process.env.TARO_APP_OUTPUT ?? `dist/${process.env.TARO_ENV}`;
  const baseConfig: UserConfigExport<'webpack5'> = {
    projectName: 'wechat-pay-checkout',
    date: '2026-11-28',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'client',
    outputRoot,
    plugins: [path.join(__dirname, 'plugins/project-config.js'), path.join(__dirname, 'plugins/precompress.js')],
    defineConstants: {
      __API_BASE__: JSON.stringify(settings.API_BASE),
      __PAYMENT_MODE__: JSON.stringify(settings.PAYMENT_MODE),
      __SANDBOX_BASE__: JSON.stringify(settings.SANDBOX_BASE),
    },
    copy: { patterns: [{ from: 'client/sitemap.json', to: `${outputRoot}/sitemap.json` }], options: {} },
    framework: 'react',
    compiler: 'webpack5',
    cache: { enable: false },
    logger: { quiet: true, stats: false },
    mini: {
      // Product pictures as files beside the pages (an <image> takes a local SVG path reliably; a base64
      // SVG data URI is not documented for it).
      imageUrlLoaderOption: { limit: true }, // Taro's meaning: a 0-byte inline limit, so every image is a file
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
    },
    h5: {
      // Code that two or more pages use (the shared components) ships once, in one chunk.
      webpackChain(chain) {
        chain.optimization.merge({
          splitChunks: {
            cacheGroups: {
              common: { name: 'common', chunks: 'async', minChunks: 2, priority: 5, reuseExistingChunk: true, enforce: true },
            },
          },
        });
      },
      publicPath: '/',
      staticDirectory: 'static',
      router: { mode: 'hash' },
      output: { filename: 'js/[name].[hash:8].js', chunkFilename: 'js/[name].[chunkhash:8].js' },
      miniCssExtractPluginOption: { ignoreOrder: true, filename: 'css/[name].[hash].css', chunkFilename: 'css/[name].[chunkhash].css' },
      postcss: {
        autoprefixer: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
    },
  };
  return merge({}, baseConfig, process.env.NODE_ENV === 'development' ? devConfig : prodConfig);
});
