// Shown only when the shop's silent login failed: logs in again and says so; on failure says why,
// with one way to try again.
import { Button, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useCallback, useEffect, useState } from 'react';
import ErrorNote from '../../components/ErrorNote';
import { ensureLoggedIn } from '../../services/auth';
import { describeError } from '../../services/errors';
import './index.css';

export default function LoginPage() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(true);

  const attempt = useCallback(async () => {
    setBusy(true);
    setError(null);
    try {
      await ensureLoggedIn();
      await Taro.redirectTo({ url: '/pages/checkout/index' });
    } catch (err) {
      setError(`登录失败：${describeError(err)}`);
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void attempt();
  }, [attempt]);

  return (
    <View className="page login">
      <View className="login__body">
        <Text className="login__title">云南咖啡小铺</Text>
        {busy ? <Text className="muted login__status">正在登录…</Text> : null}
        <ErrorNote message={error} />
      </View>
      {!busy && error ? (
        <Button className="btn-primary" type="primary" onClick={() => void attempt()}>
          重新登录
        </Button>
      ) : null}
    </View>
  );
}
