export default defineAppConfig({
  pages: ['pages/login/index', 'pages/checkout/index', 'pages/result/index', 'pages/orders/index'],
  // WeUI 2's look for the native components, and which pages WeChat search may index.
  style: 'v2',
  sitemapLocation: 'sitemap.json',
  window: {
    backgroundTextStyle: 'light',
    backgroundColor: '#f7f7f7',
    navigationBarBackgroundColor: '#f7f7f7',
    navigationBarTitleText: '收银台',
    navigationBarTextStyle: 'black',
  },
});
