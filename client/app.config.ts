export default defineAppConfig({
  pages: ['pages/login/index', 'pages/checkout/index', 'pages/result/index'],
  window: {
    backgroundTextStyle: 'light',
    backgroundColor: '#f7f7f7',
    navigationBarBackgroundColor: '#f7f7f7',
    navigationBarTitleText: '收银台',
    navigationBarTextStyle: 'black',
  },
});
