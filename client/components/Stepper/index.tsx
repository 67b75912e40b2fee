import { Button, Text, View } from '@tarojs/components';
import './index.css';

export interface StepperProps {
  value: number;
  max: number;
  disabled?: boolean;
  label: string;
  onChange(value: number): void;
}

/** − n + with bounds; the label names the product for screen readers and tests. */
export default function Stepper({ value, max, disabled, label, onChange }: StepperProps) {
  return (
    <View className='stepper'>
      <Button className='stepper__btn' size='mini' disabled={disabled || value <= 0} aria-label={`减少${label}`} onClick={() => onChange(value - 1)}>
        −
      </Button>
      <Text className='stepper__value' aria-label={`${label}数量`}>
        {value}
      </Text>
      <Button className='stepper__btn' size='mini' disabled={disabled || value >= max} aria-label={`增加${label}`} onClick={() => onChange(value + 1)}>
        +
      </Button>
    </View>
  );
}
