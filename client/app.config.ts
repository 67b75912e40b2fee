export default defineAppConfig({
  // The shop opens first and logs in silently; the login page appears only when that fails.
  pages: ['pages/checkout/index', 'pages/result/index', 'pages/orders/index', 'pages/login/index'],
  // WeUI 2's look for the native components, and which pages WeChat search may index.
  style: 'v2',
  sitemapLocation: 'sitemap.json',
  // H5 only: no page transition. Taro's router hides the page under a new one on a timer; Back before that
  // timer fired left the shop blank (its timer hid the page Back had just shown again).
  ...(process.env.TARO_ENV === 'h5' ? { animation: false } : {}),
  window: {
    backgroundTextStyle: 'light',
    backgroundColor: '#f7f7f7',
    navigationBarBackgroundColor: '#f7f7f7',
    navigationBarTitleText: '云南咖啡小铺',
    navigationBarTextStyle: 'black',
  },
});
