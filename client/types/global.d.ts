/// <reference types="@tarojs/taro" />

declare module '*.css';
declare module '*.svg' {
  const url: string;
  export default url;
}

/** Build-time settings (config/index.ts → defineConstants). */
declare const __API_BASE__: string;
declare const __PAYMENT_MODE__: 'wechat' | 'sandbox';
declare const __SANDBOX_BASE__: string;

declare namespace NodeJS {
  interface ProcessEnv {
    TARO_ENV?: string;
    TARO_APP_API_BASE?: string;
    TARO_APP_PAYMENT_MODE?: string;
    TARO_APP_SANDBOX_BASE?: string;
    TARO_APP_ID?: string;
  }
}
