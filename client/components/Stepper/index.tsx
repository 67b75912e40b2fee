import { Button, Text, View } from '@tarojs/components';
import './index.css';

export interface StepperProps {
  value: number;
  max: number;
  disabled?: boolean;
  label: string;
  /** One step up (+1) or down (−1); the owner applies it to its current state with {@link stepQuantity}. */
  onStep(delta: 1 | -1): void;
}

/** The quantity after one step from `current`, within 0…max. */
export const stepQuantity = (current: number, delta: number, max: number) => Math.min(max, Math.max(0, current + delta));

/**
 * − n + within 0…max, whatever arrives: a tap on a disabled button (Taro's H5 button still fires
 * it) changes nothing, and each tap is a step applied to the owner's latest state, not a value
 * computed from props that two quick taps would both read. At the limit it says so. The label names
 * the product for screen readers and tests.
 */
export default function Stepper({ value, max, disabled, label, onStep }: StepperProps) {
  const step = (delta: 1 | -1) => {
    if (!disabled && stepQuantity(value, delta, max) !== value) onStep(delta);
  };
  return (
    <View className="stepper-wrap">
      <View className="stepper">
        <Button
          className={`stepper__btn${disabled || value <= 0 ? ' stepper__btn--disabled' : ''}`}
          size="mini"
          disabled={disabled || value <= 0}
          aria-label={`减少${label}`}
          onClick={() => step(-1)}
        >
          −
        </Button>
        <Text className="stepper__value" aria-label={`${label}数量`}>
          {value}
        </Text>
        <Button
          className={`stepper__btn${disabled || value >= max ? ' stepper__btn--disabled' : ''}`}
          size="mini"
          disabled={disabled || value >= max}
          aria-label={`增加${label}`}
          onClick={() => step(1)}
        >
          +
        </Button>
      </View>
      {value >= max ? (
        <Text className="stepper__limit" aria-live="polite">
          最多 {max} 件
        </Text>
      ) : null}
    </View>
  );
}
