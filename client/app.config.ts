export default defineAppConfig({
  // The shop opens first and logs in silently; the login page appears only when that fails.
  pages: ['pages/checkout/index', 'pages/result/index', 'pages/orders/index', 'pages/login/index'],
  // WeUI 2's look for the native components, and which pages WeChat search may index.
  style: 'v2',
  sitemapLocation: 'sitemap.json',
  window: {
    backgroundTextStyle: 'light',
    backgroundColor: '#f7f7f7',
    navigationBarBackgroundColor: '#f7f7f7',
    navigationBarTitleText: '云南咖啡小铺',
    navigationBarTextStyle: 'black',
  },
});
