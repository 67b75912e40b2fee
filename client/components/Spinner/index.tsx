import { View } from '@tarojs/components';
import './index.css';

/** A small spinner for a button that is working (instead of Taro's `loading`, which misbehaves on H5). */
export default function Spinner() {
  return <View className="spinner" aria-hidden />;
}
