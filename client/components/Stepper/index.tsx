import { Button, Text, View } from '@tarojs/components';
import './index.css';

export interface StepperProps {
  value: number;
  max: number;
  disabled?: boolean;
  label: string;
  onChange(value: number): void;
}

const clamp = (n: number, max: number) => Math.min(max, Math.max(0, n));

/**
 * − n + within 0…max, whatever arrives: a tap on a disabled button (Taro's H5 button still fires
 * it) or a stale value changes nothing. At the limit it says so. The label names the product for
 * screen readers and tests.
 */
export default function Stepper({ value, max, disabled, label, onChange }: StepperProps) {
  const step = (delta: number) => {
    const next = clamp(value + delta, max);
    if (!disabled && next !== value) onChange(next);
  };
  return (
    <View className='stepper-wrap'>
      <View className='stepper'>
        <Button className='stepper__btn' size='mini' disabled={disabled || value <= 0} aria-label={`减少${label}`} onClick={() => step(-1)}>
          −
        </Button>
        <Text className='stepper__value' aria-label={`${label}数量`}>
          {value}
        </Text>
        <Button className='stepper__btn' size='mini' disabled={disabled || value >= max} aria-label={`增加${label}`} onClick={() => step(1)}>
          +
        </Button>
      </View>
      {value >= max ? (
        <Text className='stepper__limit' aria-live='polite'>
          最多 {max} 件
        </Text>
      ) : null}
    </View>
  );
}
